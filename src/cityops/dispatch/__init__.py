"""Dispatch out (issue 9, docs/DISPATCH.md): signed webhooks and bilingual e-mail to the agency
an incident is dispatched to, from a durable outbox, with signed acknowledgments coming back."""
