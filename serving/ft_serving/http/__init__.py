"""``ft-serve``: the production bundle over HTTP (FastAPI on uvicorn), following promotions."""
