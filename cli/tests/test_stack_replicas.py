"""The local stack with several index replicas: processes, ports and settings of each."""

from chatlens.cli.stack import Stack, StackConfig


def test_each_index_replica_is_a_process_with_its_port_and_number(tmp_path):
    stack = Stack(
        StackConfig(
            root=tmp_path,
            state=tmp_path / "state",
            base_port=9000,
            index_replicas=3,
            services=("index", "gateway"),
            nginx=False,
        )
    )
    assert stack.config.processes == ("index", "index-1", "index-2", "gateway")
    assert [stack.env(n)["HEALTH_PORT"] for n in ("index", "index-1", "index-2")] == [
        "9002",
        "9011",
        "9012",
    ]
    assert [stack.env(n)["INDEX_REPLICA"] for n in ("index", "index-1", "index-2")] == [
        "0",
        "1",
        "2",
    ]
    assert {stack.env(n)["INDEX_REPLICAS"] for n in stack.config.processes} == {"3"}
    assert "INDEX_REPLICA" not in stack.env("gateway")
    assert stack.command("index-2")[-1] == "chatlens.index"
    assert set(stack.health_urls()) == {"index", "index-1", "index-2", "gateway"}


def test_one_replica_is_the_stack_of_before(tmp_path):
    stack = Stack(StackConfig(root=tmp_path, state=tmp_path / "state"))
    assert "index-1" not in stack.config.processes
    assert stack.env("index")["INDEX_REPLICAS"] == "1"
