"""Store-and-forward between a gateway and the cloud: push ops, pull commands, honestly acknowledged."""
