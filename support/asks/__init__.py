"""Upgrade asks: staff mail a group of supporters asking them to raise their gift.

Each mail carries a personal, single-use link to a page that raises the gift
from the next payment with one button (`/asks/<token>`, support/asks/routes.py),
and a one-click unsubscribe (`/unsubscribe/<token>`, RFC 8058): asks are
marketing, and a supporter who opted out never gets another. Staff pages are in
support/staff/asks/.
"""
