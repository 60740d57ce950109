// EventBuilder: onsite (one-station) and two-station event declaration, location, magnitude, updates and cancels.
