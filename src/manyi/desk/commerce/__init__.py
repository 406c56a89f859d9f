"""The shop's data: customers, products, sellers, orders, items, payments and reviews."""
