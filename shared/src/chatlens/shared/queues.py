"""The names of Chatlens' queues, the one vocabulary that message types and the topology share.

A message type names the queue it is bound to (``Message.queue``); ``chatlens.shared.topology``
declares each queue with the bindings collected from those declarations.
"""

INGEST = "embedding.ingest"
INDEX_INGEST = "index.ingest"
# The index's long analytics jobs (topics): a queue of their own, so one never holds up an ingest.
INDEX_JOBS = "index.jobs"
GATEWAY_JOBS = "gateway.jobs"
EMBEDDING_RPC = "embedding.rpc"
INDEX_RPC = "index.rpc"
INFERENCE_RPC = "inference.rpc"
# Not one queue: a broadcast reaches every subscriber (each gateway process), each through its own
# exclusive, auto-deleted queue bound to the fanout exchange ``topology.BROADCAST_EXCHANGE``.
BROADCAST = "broadcast"
