"""Tables of the directory (minimal: one row per service and place where it is offered)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class ServicePlace(Base):
    """A service at one location, or a phone line serving an area (then no address)."""

    __tablename__ = "directory_service_places"

    id = Column(String(36), primary_key=True)  # service_at_location id, or service id
    service_id = Column(String(36), nullable=False, index=True)
    name = Column(String(300), nullable=False)
    organization = Column(String(300), nullable=False)
    needs = Column(String(200), nullable=False)  # ",shelter,legal," for LIKE matching
    phone = Column(String(60))
    languages = Column(String(200), nullable=False, default="")  # "en,es"
    latitude = Column(Float)
    longitude = Column(Float)
    confidential = Column(Boolean, nullable=False, default=False)
    phone_line = Column(Boolean, nullable=False, default=False)  # serves an area by phone
    address = Column(Text)
    country = Column(String(2))
    schedules = Column(Text, nullable=False, default="[]")  # JSON: [{days, opens, closes}]
    last_verified = Column(String(10))  # ISO date
