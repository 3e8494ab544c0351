"""Staff supporter pages: the list, a supporter's page, the CSV and admins' actions."""
