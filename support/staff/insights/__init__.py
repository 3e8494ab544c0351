"""Staff insights: dashboard and charts, banner funnel, which variant pays, webhook inbox."""
