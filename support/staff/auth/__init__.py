"""Staff sign-in: accounts, sessions, passwords, two-step sign-in, invitations, access."""
