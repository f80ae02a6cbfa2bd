// /case/<id>: the print button prints the page (print.css lays it out); no request to the server
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    xiuhua_case: {
        print: function () { window.print(); return ""; },
    },
});
