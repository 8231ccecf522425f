"""Transfer orders: the state machine, the ops that drive it, the transport webhook outbox."""
