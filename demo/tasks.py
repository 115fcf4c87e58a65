"""Demo tasks: demo partners answering requests (demo/quotes.py)."""

from celery import shared_task

from demo.quotes import demo_quotes


@shared_task(ignore_result=True)
def demo_quotes_task(request_id: int, provider_ids: list[int]) -> int:
    return len(demo_quotes(request_id=request_id, provider_ids=provider_ids))
