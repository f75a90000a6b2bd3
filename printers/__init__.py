"""Ticket printers: the ticket layout as ESC/POS bytes, and the devices that print it."""
