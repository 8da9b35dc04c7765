"""mmlist: a concurrency model checker for the multi-gen LRU's mm_struct list."""
__version__ = "0.1.0"
