"""Azure Table Storage: clients, key encoding, row mapping, transactions, ETags and call counting."""
