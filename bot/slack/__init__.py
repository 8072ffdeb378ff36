"""Everything that talks Slack: Bolt listeners, modals, message and notice renderers, delivery.

Owns: every import of ``slack_bolt`` (nothing else in ``bot`` may import it).
Asks the workflow and renders its answers; never decides a request's state.
Must never import: the Alibaba Cloud SDK.
"""
