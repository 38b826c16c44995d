# A class of the project that has a method named like a forwarding one but does not forward.
class Report:
    def activate(self, name):
        self.current = name
