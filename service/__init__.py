"""Storage, ingestion orchestration, CLI and HTTP service of xuncha."""
