"""One ``APIRouter`` per resource, as in FastAPI's "Bigger Applications" guide; ``main`` includes them all."""
