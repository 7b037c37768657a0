"""Topics: KMeans over the messages' vectors, k by silhouette, labels by class-based TF-IDF.

Plain functions over arrays, no I/O: ``topics_job`` feeds them a version's vectors and texts and
runs the heavy ones (``silhouette_of``, ``fit``, ``map_2d``) as Dask tasks. Those take the
submitter's ``trace_context`` (:func:`chatlens.shared.tracing.carrier`) and run in a SERVER span
continuing it (``topics.silhouette``, ``topics.fit``, ``topics.map_2d``), exported by a worker
started with ``chatlens.shared.dask_preload``.

- k: when not fixed, each k of [k_min, k_max] is fitted on one sample of at most
  ``SILHOUETTE_SAMPLE`` vectors and scored by its silhouette (cosine); the best wins.
- The topics: scikit-learn's KMeans on all the vectors (L2-normalised: Euclidean is cosine),
  ``N_INIT`` starts, seed ``SEED``; renumbered by size (topic 0 the largest) so the same input
  gives the same numbers.
- Labels: class-based TF-IDF (BERTopic's c-TF-IDF): a topic's term frequencies, normalised by the
  topic's size, times log(1 + mean words per topic / the term's frequency over all topics); stop
  words of the language report's languages left out. The label is the first three terms.
- Representatives: the three messages closest to the topic's centroid.
- The map: openTSNE (its own Barnes-Hut/FFT t-SNE, no compiled JIT, nothing downloaded) over a
  sample of at most ``map_points`` clustered messages, seed ``SEED``.
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from chatlens.shared import tracing

SEED = 0
SILHOUETTE_SAMPLE = 5000
N_INIT = 3
TERMS = 10
REPRESENTATIVES = 3
# Words as the language report counts them: letters and digits, a letter among them.
_TOKEN = r"(?u)\b\w*[^\W\d_]\w*\b"


def sample_rows(count: int, size: int, seed: int = SEED) -> np.ndarray:
    """At most ``size`` row numbers of ``count``, picked by ``seed``, in order."""
    if count <= size:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size, replace=False))


def candidate_ks(count: int, k_min: int, k_max: int) -> list[int]:
    """The ks a silhouette can score on ``count`` vectors (2 <= k < count)."""
    return [k for k in range(k_min, k_max + 1) if 2 <= k < count]


def silhouette_of(
    k: int,
    sample: np.ndarray,
    seed: int = SEED,
    trace_context: dict[str, str] | None = None,
) -> float:
    """The silhouette (cosine) of KMeans with ``k`` topics on ``sample``."""
    with tracing.serving(trace_context, "topics.silhouette", _span_attributes(sample, k)):
        labels = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit_predict(sample)
        if len(set(labels.tolist())) < 2:
            return -1.0
        return float(silhouette_score(sample, labels, metric="cosine"))


def fit(
    vectors: np.ndarray,
    k: int,
    seed: int = SEED,
    trace_context: dict[str, str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(topic of each vector, centroids), topics numbered by size, largest first."""
    with tracing.serving(trace_context, "topics.fit", _span_attributes(vectors, k)):
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(vectors)
        sizes = np.bincount(model.labels_, minlength=k)
        order = np.lexsort((np.arange(k), -sizes))  # by size, then by KMeans' number
        renumber = np.empty(k, dtype=np.int64)
        renumber[order] = np.arange(k)
        return renumber[model.labels_], model.cluster_centers_[order]


def terms(
    texts: list[str], labels: np.ndarray, k: int, stop: tuple[str, ...], top: int = TERMS
) -> list[list[tuple[str, float]]]:
    """Each topic's ``top`` terms by class-based TF-IDF, with their scores."""
    # A stop word with an apostrophe ("don't") is left out as the tokens it makes ("don").
    words_of = re.compile(_TOKEN).findall
    stop_tokens = sorted({token for word in stop for token in words_of(word.lower())})
    vectorizer = CountVectorizer(token_pattern=_TOKEN, lowercase=True, stop_words=stop_tokens)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(k)]
    member = sparse.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    per_topic = np.asarray((member @ counts).todense(), dtype=np.float64)
    words = per_topic.sum(axis=1, keepdims=True)
    tf = np.divide(per_topic, words, out=np.zeros_like(per_topic), where=words > 0)
    frequency = per_topic.sum(axis=0)
    mean_words = frequency.sum() / k
    idf = np.log1p(
        np.divide(mean_words, frequency, out=np.zeros_like(frequency), where=frequency > 0)
    )
    scores = tf * idf
    vocabulary = vectorizer.get_feature_names_out()
    found = []
    for topic in range(k):
        row = scores[topic]
        best = [i for i in np.lexsort((vocabulary, -row))[:top] if row[i] > 0]
        found.append([(str(vocabulary[i]), float(row[i])) for i in best])
    return found


def representatives(
    vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray, n: int = REPRESENTATIVES
) -> list[list[int]]:
    """Per topic, the rows of the ``n`` vectors closest to its centroid (cosine)."""
    found = []
    for topic, centroid in enumerate(centroids):
        rows = np.flatnonzero(labels == topic)
        similarity = vectors[rows] @ (centroid / (np.linalg.norm(centroid) or 1.0))
        found.append(rows[np.lexsort((rows, -similarity))[:n]].tolist())
    return found


def over_time(buckets: np.ndarray, labels: np.ndarray) -> list[dict]:
    """Messages per (bucket, topic), in bucket order."""
    if len(labels) == 0:
        return []
    pairs, counts = np.unique(np.rec.fromarrays([buckets, labels]), return_counts=True)
    return [
        {"bucket": str(bucket), "topic": int(topic), "messages": int(n)}
        for (bucket, topic), n in zip(pairs.tolist(), counts.tolist(), strict=True)
    ]


def map_2d(
    vectors: np.ndarray,
    seed: int = SEED,
    threads: int = 1,
    trace_context: dict[str, str] | None = None,
) -> np.ndarray:
    """A 2-D t-SNE embedding (openTSNE) of ``vectors``: one (x, y) row each."""
    with tracing.serving(trace_context, "topics.map_2d", _span_attributes(vectors)):
        return _map_2d(vectors, seed, threads)


def _map_2d(vectors: np.ndarray, seed: int, threads: int) -> np.ndarray:
    from openTSNE import TSNE  # imported where it runs (a Dask worker)

    count = len(vectors)
    if count < 4:
        return np.zeros((count, 2))
    perplexity = min(30.0, (count - 1) / 3.0)
    embedding = TSNE(
        n_components=2,
        perplexity=perplexity,
        metric="cosine",
        random_state=seed,
        n_jobs=threads,
        verbose=False,
    ).fit(vectors.astype(np.float64))
    return np.asarray(embedding)


def _span_attributes(vectors: np.ndarray, k: int | None = None) -> dict[str, int]:
    """A task span's attributes: the rows it works on and, when it clusters, k."""
    values = {"chatlens.rows": len(vectors)}
    if k is not None:
        values["chatlens.k"] = k
    return values
