"""AGV fleet master control over VDA 5050 2.1.0 / MQTT: layout, orders, traffic, assignment."""
