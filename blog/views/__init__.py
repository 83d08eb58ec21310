"""Blog views, one module per domain; `blog.urls` imports them from here."""
