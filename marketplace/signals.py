"""Signals the offer services send, for the layers above that react to offers changing (alerts).

``offers_changed`` is sent once per write that created offers or changed a price or an
availability (which is when snapshots are recorded), after the data is written, inside the
writer's transaction: receivers that start work elsewhere do so on commit.
"""

from django.dispatch import Signal

offers_changed = Signal()  # kwargs: provider
