"""API access for partners: OAuth2 client credentials per tenant."""
