"""Floor work on the gateway: the picking layout, pick paths, putaway and (later) tasks and work orders."""
