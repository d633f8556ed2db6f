"""Query, mutation and subscription logic, and the DataLoaders they read through."""
