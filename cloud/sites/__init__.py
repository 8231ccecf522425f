"""Sites as their gateways report them: status heartbeats (backlog, parts' health) and layout."""
