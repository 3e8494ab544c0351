"""Campaigns: what readers are asked, where and how, set up by editors without a deploy.

`document` is the JSON shape and its rules, `store` saves and versions campaigns,
`live` says which run now (for the appeal, the banner and beacons), `default` is the
campaign the settings describe, `optimise` moves banner weights toward what pays,
and `cli` imports and exports.
"""
