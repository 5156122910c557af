<?php
/* Must-use plugin for the test WordPress: no mail, no calls to the internet. */
if (!function_exists('wp_mail')) {
    function wp_mail($to, $subject, $message, $headers = '', $attachments = array()) { return true; }
}
add_filter('pre_http_request', function ($pre, $args, $url) {
    return new WP_Error('ck_test_offline', 'the test WordPress makes no HTTP requests');
}, 10, 3);
