"""The features: each folder one feature, with its chat feature, views and ops."""
