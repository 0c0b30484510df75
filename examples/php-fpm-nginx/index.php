<?php
// Answered by php-fpm through nginx: a 502 if php-fpm is not there, this line if it is.
echo "PHP " . PHP_VERSION . " behind nginx\n";
