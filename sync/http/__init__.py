"""HTTP plumbing both APIs share (the gateway's and the cloud's): one error body, request limits, and the
parts of the OpenAPI document every route inherits.

Everything here is installed once per app (``install_errors``, ``RequestGuard``, ``finish_openapi``), so a
route added later answers errors in the same shape, is bounded the same way and is documented the same
way without doing anything. See the README, "Writing a route".
"""
