"""The write path: one module per entity holding its inputs, their validation models, its
payload, its root mutation fields and their logic. `common` (the runner and row helpers),
`fields` (the root fields' permission and the delete input) and `payloads` (`UserError`,
the delete payload) hold what every entity shares."""
