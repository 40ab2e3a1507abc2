"""Invitation e-mail: the message (`message`), the per-tenant template (`template`), and one module per
delivery channel (`smtp` for SMTP and the local capture server, `acs` for Azure Communication Services),
chosen by `channels.from_settings`. Nothing here touches storage: shared.invitations owns the outbox."""
