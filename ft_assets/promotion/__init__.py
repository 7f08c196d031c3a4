"""Champion/challenger promotion of the production bundle, and its registry."""
