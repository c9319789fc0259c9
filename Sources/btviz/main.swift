print("btviz")
