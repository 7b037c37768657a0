"""Chat-export parsers: each turns one uploaded file into normalised ``ChatMessage`` records.

Only WhatsApp's text export is supported so far (:mod:`.whatsapp`); the line grammar, the date
rules and the message identity live in :mod:`.lines`, :mod:`.timestamps` and :mod:`.identity`.
"""
