"""One module per page: layout() and its callbacks. Helpers without a page do not call register_page."""
