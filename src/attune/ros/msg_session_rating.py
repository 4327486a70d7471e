"""attune/SessionRating <-> attune.behavior.ratings.Rating (an operator's rating during a session;
NOT_RATED = 0 stands for a quality left out)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from attune.behavior.ratings import Rating
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import from_ns

if TYPE_CHECKING:
    from attune.msg import SessionRating


def to_msg(rating: Rating, stamp_ns: int = 0) -> SessionRating:
    """The SessionRating of `rating`, stamped `stamp_ns` (t, rated_at and source are the receiver's)."""
    msgs = attune_msgs()
    msg: SessionRating = msgs.SessionRating(
        header=Header(stamp=from_ns(stamp_ns, Time)), engagement=rating.engagement or msgs.SessionRating.NOT_RATED,
        comfort=rating.comfort or msgs.SessionRating.NOT_RATED, note=rating.note, rater=rating.rater)
    return msg


def from_msg(msg: SessionRating, t: float | None = None, rated_at: str = '') -> Rating:
    """An attune/SessionRating as a Rating from the topic (NOT_RATED = 0 -> None); `t` = seconds into
    the session, `rated_at` the wall-clock time it arrived.

    Raises:
        RatingError: a value outside 1-7, or a rating with nothing rated and no note.
    """
    return Rating(engagement=int(msg.engagement) or None, comfort=int(msg.comfort) or None, note=msg.note,
                  rater=msg.rater, t=t, rated_at=rated_at, source='topic')
