"""Round robin as a pure rule: who is next, given the members in order, presence, load and the pointer."""

import pytest

from inbox.policy import AgentLoad, next_assignee


def team(*specs: str) -> list[AgentLoad]:
    """Members with ids 1, 2, 3 ...: "on 2/5" = online, 2 open of capacity 5; "away", "off" likewise."""
    members = []
    for user_id, spec in enumerate(specs, start=1):
        presence, load = spec.split()
        open_now, capacity = (int(n) for n in load.split("/"))
        presence = {"on": "online", "away": "away", "off": "offline"}[presence]
        members.append(AgentLoad(user_id, presence, open_now, capacity))
    return members


@pytest.mark.parametrize(
    ("members", "pointer", "expected"),
    [
        # Nobody assigned yet: the first member.
        (team("on 0/5", "on 0/5", "on 0/5"), None, 1),
        # The one after the pointer, wrapping around.
        (team("on 0/5", "on 0/5", "on 0/5"), 1, 2),
        (team("on 0/5", "on 0/5", "on 0/5"), 3, 1),
        # Away and offline people are skipped.
        (team("on 0/5", "away 0/5", "on 0/5"), 1, 3),
        (team("off 0/5", "on 0/5", "off 0/5"), 2, 2),
        # Full people are skipped; one slot left is room.
        (team("on 0/5", "on 5/5", "on 4/5"), 1, 3),
        # Capacity 0: never assigned automatically.
        (team("on 0/0", "on 0/5"), None, 2),
        # Everyone full, away or offline: the queue.
        (team("on 5/5", "away 0/5", "off 0/5"), 1, None),
        ([], None, None),
        # The pointer left the team (id 2 gone): resume at the next id, not from the start.
        ([AgentLoad(1, "online", 0, 5), AgentLoad(3, "online", 0, 5)], 2, 3),
        # Order is by id whatever order the members come in.
        (list(reversed(team("on 0/5", "on 0/5", "on 0/5"))), 1, 2),
        # Load does not reorder the rotation: the next with room, not the least busy.
        (team("on 0/5", "on 4/5", "on 0/5"), 1, 2),
    ],
)
def test_next_assignee(members, pointer, expected):
    assert next_assignee(members, last_assigned_user_id=pointer) == expected
