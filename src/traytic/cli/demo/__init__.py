"""`traytic demo`: a month of sample traffic for the embedded mode's demo site.

`site.py` and `audience.py` describe the site and its visitors, `traffic.py` turns them into the
beacons a tracker would send, `send.py` posts those through an in-process gateway, and
`command.py` ties them together beside a running `traytic dev`.
"""
