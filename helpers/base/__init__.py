"""Le socle : erreurs en français, chemins du dépôt, nombres à la française, versions.

Rien ici n'importe une autre partie du paquet : tout le reste s'appuie dessus.
"""
