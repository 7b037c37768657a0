"""The demo: a user, a collection, the sample WhatsApp export through the whole path, a search."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tqdm import tqdm

from chatlens.cli.client import ApiError, Client
from chatlens.cli.stack import Stack, nginx_binary

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-chatlens"


def run_demo(stack: Stack, sample: Path, query: str) -> None:
    """Register (or log in), create a collection, ingest, search, ask; leave the stack up."""
    use_nginx = stack.config.nginx and nginx_binary() is not None
    url = stack.config.nginx_url if use_nginx else stack.config.gateway_url
    how = "through nginx" if use_nginx else "gateway directly: nginx not installed"
    print(f"API at {url} ({how})")
    client = Client(url)
    try:
        client.register(DEMO_EMAIL, DEMO_PASSWORD, "Demo user")
        print(f"registered {DEMO_EMAIL}")
    except ApiError as exc:
        if exc.code != "email_taken":
            raise
    client.login(DEMO_EMAIL, DEMO_PASSWORD)
    collection = client.create_collection("Team Lisbon (demo)", f"the sample {sample.name}")
    print(f"collection {collection['id']}; uploading {sample}")
    job = client.upload(collection["id"], [sample])[0]
    follow_job(client, job["id"])
    final = client.job(job["id"])
    if final["status"] != "succeeded":
        raise SystemExit(f"the job failed: {final['error']}")
    stats = final["stats"] or {}
    print(f"indexed {stats.get('added', '?')} messages as version {final['version']}")
    print(f"\nhybrid search (meaning + keywords): {query!r}")
    print("  rank  similarity  sent               message")
    for rank, hit in enumerate(client.search(collection["id"], query, k=5)["results"], 1):
        when = hit["sent_at"][:16].replace("T", " ")
        text = textwrap.shorten(hit["text"], 80)
        similarity = hit.get("semantic_score")
        shown = f"{similarity:.3f}" if similarity is not None else "   - "
        print(f"  {rank:>4}  {shown:>10}  {when}  {hit['sender']}: {text}")
    question = "When is the offsite in Lisbon?"
    print(
        f"\nask: {question!r}  (SmolLM2-135M on the Dask worker; a small model, so check the "
        "citation)"
    )
    answer = client.ask(collection["id"], question)
    print(f"  answer: {answer['answer']}")
    for citation in answer["citations"]:
        when = citation["sent_at"][:16].replace("T", " ")
        print(f"  cites:  {when}  {citation['sender']}: {textwrap.shorten(citation['text'], 80)}")
    print(f"\nThe stack is still running at {url} (log in as {DEMO_EMAIL} / {DEMO_PASSWORD}).")
    if use_nginx and (stack.config.root / "services/web/dist/index.html").exists():
        print(f"Web app: {url}/  (sign in as {DEMO_EMAIL} / {DEMO_PASSWORD})")
    print(f"OpenAPI: {url}/api/v1/openapi.json · logs: make logs · stop: make down")


def follow_job(client: Client, job_id: str) -> None:
    """Draw the job's progress from its server-sent events."""
    bar = tqdm(total=1, unit="msg", desc="queued", dynamic_ncols=True)
    for event, data in client.job_events(job_id):
        progress = data["progress"]
        bar.set_description(progress["stage"] or data["status"])
        if progress["total"]:
            bar.total = progress["total"]
            bar.n = min(progress["done"], progress["total"])
        bar.refresh()
        if event == "done":
            if data["status"] == "succeeded":
                bar.n = bar.total
            bar.set_description(data["status"])
            break
    bar.close()
