"""The Python-C contract: region layouts, enums and partition names (standard library only)."""
