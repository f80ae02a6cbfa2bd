"""The web side that is not a page: services, sign-in and access checks, the message catalogue, data routes."""
