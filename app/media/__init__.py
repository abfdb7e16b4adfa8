"""Media files: storage (local, S3), uploads, transcoding to HLS, playback URLs."""

from flask import Blueprint

bp = Blueprint("media", __name__)
