"""The application layer both frontends (and notebooks) call.

:mod:`adu_core.services.exports` (verify, read and open an export on the far side) and
:mod:`adu_core.services.plugins` (what the plugins provide: components, their options,
commands). Keep this package cheap to import: the CLI imports it to list its commands.
"""
