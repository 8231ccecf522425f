"""The network as data: warehouses, lanes and carrier services in the cloud's database."""
