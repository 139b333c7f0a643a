"""A user's own data: /profile, /progress, /language, /mydata and /forget."""
