"""Storage behind one seam: the services use `table.Table` and never a storage SDK.

- table.py: the Table protocol, Row (etag/timestamp beside the properties), Op, the transaction guard.
- azure_table.py: Azure Table Storage / Cosmos DB for Table (the only module that imports the Azure SDK).
- memory.py: the same behaviour in process, for service-level tests (tests/contract keeps them equal).
- client.py: Storage, the process's tables from one backend; keys.py: RowKey construction and parsing;
  rows.py: documents split over properties; counter.py: storage calls per unit of work; parallel.py.
"""
