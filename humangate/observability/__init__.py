"""What an operator sees of a node: /metrics, the request id, structured logs.

    metrics.py   the registry (plain dicts), the node's metrics, merging and the text format
    shared.py    each worker's snapshot in the run's folder, read by the one that is scraped
    requests.py  the ASGI middleware: request id, counts and durations by route, access line
    probes.py    event-loop lag, store and database timings and errors, pool depth
    logs.py      JSON or text lines with the request id, scrubbed of secrets; uvicorn's config
    node.py      `install`: the middleware and /metrics on an app; `node_jobs`: the probes and
                 the snapshot writer a serving node runs beside its other jobs (humangate/app.py)

The package's own import is empty, so that the loop and the API can import metrics.py alone.
"""
