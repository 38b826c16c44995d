# A constant bound to another module's constant (two relative levels up).
from ..constants import PREFIX

DERIVED = PREFIX
