"""`graphllm serve`: graph questions over HTTP, answered by one loaded model through the continuous batcher
(`graphllm.inference.batcher`). `schema.py` is the API's data, `service.py` turns a request into a decoding job,
`app.py` is the FastAPI application (routes, streaming, errors, metrics) and `page.html` the page at `/`."""
