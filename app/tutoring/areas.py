"""Areas a student can choose for in-person sessions, with their coordinates: a fixed list
rather than free-text geocoding (nothing leaves the machine, and a typo cannot place a
student in the wrong city). Add rows here to serve more places."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    key: str
    name: str
    latitude: float
    longitude: float


AREAS = {
    a.key: a
    for a in (
        Area("mumbai-andheri", "Mumbai · Andheri", 19.1136, 72.8697),
        Area("mumbai-bandra", "Mumbai · Bandra", 19.0596, 72.8295),
        Area("mumbai-powai", "Mumbai · Powai", 19.1176, 72.9060),
        Area("pune-kothrud", "Pune · Kothrud", 18.5074, 73.8077),
        Area("bengaluru-indiranagar", "Bengaluru · Indiranagar", 12.9784, 77.6408),
        Area("bengaluru-whitefield", "Bengaluru · Whitefield", 12.9698, 77.7500),
        Area("bengaluru-jayanagar", "Bengaluru · Jayanagar", 12.9308, 77.5838),
        Area("delhi-saket", "Delhi · Saket", 28.5245, 77.2066),
        Area("delhi-dwarka", "Delhi · Dwarka", 28.5921, 77.0460),
        Area("chennai-adyar", "Chennai · Adyar", 13.0012, 80.2565),
        Area("hyderabad-gachibowli", "Hyderabad · Gachibowli", 17.4401, 78.3489),
        Area("london-camden", "London · Camden", 51.5390, -0.1426),
        Area("london-islington", "London · Islington", 51.5465, -0.1058),
        Area("london-croydon", "London · Croydon", 51.3762, -0.0982),
        Area("new-york-brooklyn", "New York · Brooklyn", 40.6782, -73.9442),
        Area("new-york-manhattan", "New York · Manhattan", 40.7831, -73.9712),
    )
}


def area(key: str | None) -> Area | None:
    return AREAS.get(key or "")
